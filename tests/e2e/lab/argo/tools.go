//go:build tools

// Package tools names the Argo Workflows programs the lab builds from Argo's Go module. Argo has a module of
// its own here: v4.0.7 does not compile against the newer Kubernetes libraries of the control plane's module
// (k8s.io/apimachinery v0.34 added labels.Labels.Lookup, which Argo's gjsonLabels lacks).
package tools

import (
	_ "github.com/argoproj/argo-workflows/v4/cmd/argo"
	_ "github.com/argoproj/argo-workflows/v4/cmd/argoexec"
	_ "github.com/argoproj/argo-workflows/v4/cmd/workflow-controller"
)
