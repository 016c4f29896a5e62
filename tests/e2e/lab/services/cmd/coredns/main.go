// Command coredns is CoreDNS with only the plugins the lab's cluster DNS uses: `kubernetes` answers for the
// groups' headless Services (pod hostnames under a Service's subdomain), `errors` and `log` report. It
// forwards nothing: a name outside cluster.local gets no answer, so no query leaves the lab.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/log"
)

func main() {
	// The plugins run in the order of this list (CoreDNS's own order, cut to the three linked in).
	dnsserver.Directives = []string{"errors", "log", "kubernetes"}
	coremain.Run()
}
