// bench-grpc-backend: the gRPC unary backend of Bulkhead's side-by-side benchmark.
//
// It serves the standard grpc.health.v1.Health/Check method from grpc-go (no code generation needed,
// a real unary protobuf call) over h2c, and counts the calls it answered so the benchmark runner can
// check that every request the load tool counted as done really reached the backend with
// grpc-status 0 (h2load only sees HTTP status 200, not the gRPC status in the trailers).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync/atomic"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

type countingHealth struct {
	healthpb.UnimplementedHealthServer
	calls atomic.Int64
}

func (h *countingHealth) Check(_ context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.calls.Add(1)
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "gRPC (h2c) listen address")
	statsAddr := flag.String("stats", "127.0.0.1:0", "HTTP address answering GET /count with the number of Check calls")
	flag.Parse()

	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listen %s: %v", *addr, err)
	}
	statsLis, err := net.Listen("tcp", *statsAddr)
	if err != nil {
		log.Fatalf("listen %s: %v", *statsAddr, err)
	}

	health := &countingHealth{}
	srv := grpc.NewServer(grpc.MaxConcurrentStreams(1000))
	healthpb.RegisterHealthServer(srv, health)

	mux := http.NewServeMux()
	mux.HandleFunc("/count", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "%d\n", health.calls.Load())
	})
	go func() { _ = http.Serve(statsLis, mux) }()

	// One line on stdout tells the runner both ports once they are bound.
	fmt.Printf("grpc=%d stats=%d\n", lis.Addr().(*net.TCPAddr).Port, statsLis.Addr().(*net.TCPAddr).Port)
	if err := srv.Serve(lis); err != nil {
		log.Fatalf("serve: %v", err)
	}
}
