package main

import (
	"os"

	"zkit/server/bench"
)

// runBench is `zkit bench`, the load generator, and `zkit bench suite`, the
// side-by-side comparison with Apache ZooKeeper (package server/bench).
func runBench(args []string) int { return bench.Main(args, os.Stdout, os.Stderr) }
