// Command mkimage builds imgcheck's container image without a Docker
// daemon: an OCI image per platform holding only the static binary (as
// /imgcheck, the entrypoint), an /etc/passwd naming the non-root user
// 65532 it runs as, and an empty /tmp for expanding compressed uploads.
// There is no shell and no base image (scratch). The result is an OCI
// image layout archive (oci-archive), which `podman load`, `docker load`
// (Docker 25 and later) and `skopeo copy oci-archive:…` read.
//
//	mkimage -o dist/imgcheck-oci.tar -version v1.2.3 -revision <commit> \
//	    linux/amd64=dist/imgcheck_linux_amd64_v1/imgcheck \
//	    linux/arm64=dist/imgcheck_linux_arm64_v8.0/imgcheck
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	out := flag.String("o", "imgcheck-oci.tar", "write the OCI layout archive to `FILE`")
	version := flag.String("version", "devel", "image `VERSION`; the archive names the image imgcheck:VERSION")
	revision := flag.String("revision", "", "VCS `REVISION` recorded in the image labels")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: mkimage [flags] OS/ARCH=BINARY...")
		flag.PrintDefaults()
	}
	flag.Parse()
	var bins []platformBinary
	for _, a := range flag.Args() {
		plat, path, ok := strings.Cut(a, "=")
		osName, arch, ok2 := strings.Cut(plat, "/")
		if !ok || !ok2 || path == "" {
			fmt.Fprintf(os.Stderr, "mkimage: %q: want OS/ARCH=BINARY\n", a)
			os.Exit(2)
		}
		bins = append(bins, platformBinary{OS: osName, Arch: arch, Path: path})
	}
	if len(bins) == 0 {
		flag.Usage()
		os.Exit(2)
	}
	// A tag has no "+": goreleaser's snapshot versions do ("0.0.1-snapshot+abc").
	ref := "imgcheck:" + strings.ReplaceAll(*version, "+", "-")
	if err := writeArchive(*out, bins, labels(*version, *revision), ref); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}
