//go:build tools

// Package tools pins the grpc-go interop client and server that test/dataplane/grpc-interop.test.ts
// runs through the data plane. scripts/setup-grpc-interop.sh builds them from this module into
// ${BULKHEAD_CACHE:-$HOME/.cache/bulkhead}/bin; nothing here is compiled into Bulkhead.
package tools

import (
	_ "google.golang.org/grpc/interop/client"
	_ "google.golang.org/grpc/interop/server"
)
