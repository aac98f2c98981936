#!/bin/bash
# The original client's suite again with no agent in the VM: dom0's sh
# programs, as a VM with only the original client gets them.
export QVMR_NO_AGENT=1
. "$(dirname "$0")/test_original.sh"
