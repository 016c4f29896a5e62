// Command registry is the CNCF Distribution registry with only its filesystem storage driver. The lab
// serves its own images from it, so that the compiled manifests' `imagePullPolicy: Always` pulls as on a
// cluster, from an address inside the lab.
package main

import (
	"github.com/distribution/distribution/v3/registry"

	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		panic(err)
	}
}
