// Command pause is the pod sandbox's process: it holds the pod's namespaces and waits for a signal. The
// lab builds it instead of pulling registry.k8s.io/pause (there is no registry here).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
}
