"""Pinned versions of the external tools the setup scripts build."""

# The Pulumi CLI is built from the Go module proxy at the same version as the `pulumi` Python SDK.
PULUMI_VERSION = "3.259.0"
