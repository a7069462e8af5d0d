#!/bin/sh
# v3: a build whose health check always fails.
SHOP_BROKEN_HEALTH=1 exec "$(dirname "$0")/shop-server-build" "$@"
