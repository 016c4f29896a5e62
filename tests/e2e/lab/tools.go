//go:build tools

// Package tools names the upstream programs the lab builds from their Go modules, so that `go mod tidy`
// keeps them (and only them) pinned in go.mod. It is never compiled itself.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
