#!/bin/bash
# The roundtrip suite again with no agent in the VMs: dom0's sh programs,
# under dash and bash, as VMs with only the original client get them.
export QVMR_NO_AGENT=1
. "$(dirname "$0")/test_roundtrip.sh"
