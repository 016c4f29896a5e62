// Command etcd is etcd's own server entry point, built from its Go module at the version Kubernetes pins
// (Debian's etcd 3.4.23 is older than what Kubernetes supports).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
