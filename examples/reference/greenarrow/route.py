"""A CloudMTA route that overflows into a second one."""

import pulumi

from pulumi_mailinfra import greenarrow

overflow = greenarrow.Route("overflow", requested_target_daily_volume=25000)
main = greenarrow.Route("main", requested_target_daily_volume=50000, overflow_route={"id": overflow.id})
pulumi.export("recommended", main.recommended_max_daily_volume)
pulumi.export("routing_rule", main.routing_rule)
