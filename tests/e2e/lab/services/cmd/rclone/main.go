// Command rclone is rclone with only what the compiled workflows ask of it in the lab: `rclone copy` between
// the local file system and S3 (the checkpoint sidecar, the `gs://`-style fetch init container), against
// the lab's S3 server.
package main

import (
	_ "github.com/rclone/rclone/backend/local"
	_ "github.com/rclone/rclone/backend/s3"
	"github.com/rclone/rclone/cmd"
	_ "github.com/rclone/rclone/cmd/copy"
)

func main() { cmd.Main() }
