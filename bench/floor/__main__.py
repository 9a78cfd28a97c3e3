"""The engine floor: the resources of a real stack (read from its `pulumi stack export`, the file named by
MAILINFRA_FLOOR_SPEC) declared again through a no-op dynamic provider, with the same logical names, the same
dependencies and the same inputs and outputs (so the same state size), secrets kept secret (the engine encrypts
them at every checkpoint). What remains is the engine's own cost.

The program waits for its Outputs as a program of our resources does (pulumi_mailinfra.program_wait, in place
of the SDK's own), so the wait is the same on both sides of the comparison."""

import json
import os

import pulumi
from noop_provider import NoopResource

from pulumi_mailinfra import program_wait

program_wait.install()

FLOOR_SECRET = "__floor_secret__"  # how bench_scale.py writes a value that was a secret in the real stack


def revive(value: object) -> object:
    if isinstance(value, dict):
        if FLOOR_SECRET in value:
            return pulumi.Output.secret(value[FLOOR_SECRET])
        return {k: revive(v) for k, v in value.items()}
    if isinstance(value, list):
        return [revive(v) for v in value]
    return value


spec = json.loads(open(os.environ["MAILINFRA_FLOOR_SPEC"]).read())  # noqa: SIM115 - read once at start
made: dict[str, NoopResource] = {}
for item in spec:  # in the export's order: a resource comes after what it depends on
    depends = [made[name] for name in item["depends_on"] if name in made]
    options = pulumi.ResourceOptions(depends_on=depends)
    made[item["name"]] = NoopResource(item["name"], revive(item["props"]), opts=options)
