package main

import (
	"fmt"

	"zkit/server/version"
)

func runVersion(args []string) int {
	fmt.Printf("zkit %s (ZooKeeper %s compatible), commit %s, built %s\n",
		version.Zkit, version.ZooKeeper, version.Commit, version.BuildDate)
	return 0
}
