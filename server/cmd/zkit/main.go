// Command zkit is a ZooKeeper-compatible coordination server.
//
//	zkit serve zoo.cfg        run a server from an Apache ZooKeeper config
//	zkit ensemble -n 3        run a local ensemble and print its connect string
//	zkit bench                the load generator
//	zkit datadir ...          inspect, verify and purge a data directory
//	zkit version              print the version
package main

import (
	"fmt"
	"os"
)

type command struct {
	name, summary string
	run           func(args []string) int
}

var commands []command

func init() {
	commands = []command{
		{"serve", "run a server from a zoo.cfg", runServe},
		{"ensemble", "run a local ensemble in this process and print its connect string", runEnsemble},
		{"member", "run one member of a local ensemble as its own process (rendezvous directory)", runMember},
		{"version", "print the version", runVersion},
		{"datadir", "inspect, verify and purge a data directory (snapshots, txn log)", runDatadir},
		{"bench", "load generator; 'bench suite' compares zkit with Apache ZooKeeper", runBench},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: zkit <command> [arguments]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'zkit <command> --help' for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "--help" || name == "help" {
		usage()
		return
	}
	for _, c := range commands {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	fmt.Fprintf(os.Stderr, "zkit: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}
