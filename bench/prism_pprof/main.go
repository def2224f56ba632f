// Prism with Go's heap profiler, for memory diagnosis only (bench/soak.py --profile).
//
// The same job server as Beam's cmd/prism (github.com/apache/beam/sdks/v2/go/cmd/prism,
// Apache License 2.0) at the Beam version of pyproject.toml, plus net/http/pprof on
// 127.0.0.1:$PRISM_PPROF_PORT (default 6061). Nothing of Prism is changed: this is a
// different main package around Prism's public CreateJobServer. Not used by the pipeline.
//
//	cd bench/prism_pprof && go build -o ../../.venv/bin/prism-pprof .
package main

import (
	"context"
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"

	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
)

var (
	jobPort             = flag.Int("job_port", 8073, "job management service port")
	_                   = flag.Int("web_port", 8074, "ignored: no web UI")
	_                   = flag.Bool("serve_http", false, "ignored: no web UI")
	idleShutdownTimeout = flag.Duration("idle_shutdown_timeout", -1, "shut down after this long without a job")
	logKind             = flag.String("log_kind", "dev", "dev, json or text")
	logLevel            = flag.String("log_level", "info", "debug, info, warn or error")
)

func main() {
	flag.Parse()
	port := os.Getenv("PRISM_PPROF_PORT")
	if port == "" {
		port = "6061"
	}
	go func() { log.Println(http.ListenAndServe("127.0.0.1:"+port, nil)) }()
	ctx, cancel := context.WithCancelCause(context.Background())
	beamlog.SetupLogging(*logLevel, *logKind)
	if _, err := prism.CreateJobServer(ctx, prism.Options{
		Port: *jobPort, IdleShutdownTimeout: *idleShutdownTimeout, CancelFn: cancel,
	}); err != nil {
		log.Fatalf("error creating job server: %v", err)
	}
	<-ctx.Done()
}
