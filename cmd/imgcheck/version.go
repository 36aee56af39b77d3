package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"github.com/spf13/cobra"
)

// Release builds stamp these with
//
//	-ldflags "-X main.version=v1.2.3 -X main.revision=<commit>"
//
// (see .goreleaser.yaml). Unstamped builds fall back to the build info:
// the module version that `go install …@v1.2.3` records, or the
// pseudo-version and vcs.revision that `go build` records in a git
// checkout; a build with neither (a test binary, -buildvcs=false) is
// "devel".
var (
	version  = ""
	revision = ""
)

// buildInfo is the binary's build info, decoded once: the version line
// needs it three times at every start.
var buildInfo = sync.OnceValues(debug.ReadBuildInfo)

// toolVersion returns the version imgcheck reports about itself, in
// --version and in every report.
func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := buildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// toolRevision returns the VCS revision imgcheck was built from, with
// "-dirty" when the work tree had local changes, or "" when unknown.
func toolRevision() string {
	if revision != "" {
		return revision
	}
	bi, ok := buildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "-dirty"
		}
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

// versionLine is what `imgcheck version` and `imgcheck --version` print.
func versionLine() string {
	rev := toolRevision()
	if rev == "" {
		rev = "unknown"
	}
	return fmt.Sprintf("imgcheck %s (revision %s, %s, %s/%s)\n", toolVersion(), rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// addVersionFlag gives root a --version flag. It has no -v shorthand:
// -v is left for the verbs' own flags.
func addVersionFlag(root *cobra.Command) {
	root.Version = toolVersion()
	root.Flags().Bool("version", false, "print the version and VCS revision, then exit")
	root.SetVersionTemplate(versionLine())
}

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the imgcheck version and VCS revision",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprint(g.stdout, versionLine())
			return err
		},
	}
}
