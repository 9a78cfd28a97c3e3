"""The `mailinfra` command: deploy, drift, promote and export on the Automation API and the real Pulumi CLI.

Kept apart from `pulumi_mailinfra`, the library stacks import: nothing here runs inside a Pulumi program."""
