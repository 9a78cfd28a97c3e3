"""The engine floor: the resources of a real stack (read from its `pulumi stack export`, the file named by
MAILINFRA_FLOOR_SPEC) declared again through a no-op dynamic provider, with the same logical names, the same
dependencies and the same inputs and outputs (so the same state size). What remains is the engine's own cost."""

import json
import os

import pulumi
from noop_provider import NoopResource

spec = json.loads(open(os.environ["MAILINFRA_FLOOR_SPEC"]).read())  # noqa: SIM115 - read once at start
made: dict[str, NoopResource] = {}
for item in spec:  # in the export's order: a resource comes after what it depends on
    depends = [made[name] for name in item["depends_on"] if name in made]
    made[item["name"]] = NoopResource(item["name"], item["props"], opts=pulumi.ResourceOptions(depends_on=depends))
