// Command imgcheck audits DigitalOcean Marketplace disk images offline: it
// reads raw and qcow2 images (MBR, GPT or a bare filesystem) and the ext4
// filesystem inside without mounting or booting them, and reports what
// DigitalOcean's img_check.sh and cleanup.sh care about.
//
// The command is thin wiring: image opens containers and partition tables,
// fsinspect gives the guest view, rules decides, rules/report writes.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
