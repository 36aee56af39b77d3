package imgcheck_test

import (
	"context"
	"fmt"
	"os"

	"github.com/imgcheck/imgcheck"
	"github.com/imgcheck/imgcheck/fixtures"
	"github.com/imgcheck/imgcheck/rules"
	"github.com/imgcheck/imgcheck/rules/report"
)

// Example scans a disk image in the marketplace profile and prints what a
// vendor must fix, then the verdict, as a Go program embedding imgcheck
// would.
func Example() {
	disk, err := fixtures.Disk(fixtures.CacheDir(), fixtures.Layout{Scheme: "gpt", Parts: []fixtures.Part{{Type: "linux", Image: exampleRoot()}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	t, err := imgcheck.Open(ctx, disk, imgcheck.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	sel, err := imgcheck.Select(rules.Marketplace, nil, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	res := imgcheck.Scan(ctx, t, sel)
	for _, f := range res.Findings() {
		if f.Level == rules.Fail {
			fmt.Printf("%s: %s\n", f.Rule, f.Message)
		}
	}
	fmt.Println("exit code:", report.ExitCode([]report.Image{*res}, rules.Fail))
	// Output:
	// accounts.password: User debian has a password set (yescrypt hash in /etc/shadow line 11)
	// ssh.authorized-keys: User root has 1 authorized key(s) in /root/.ssh/authorized_keys
	// exit code: 1
}

// exampleRoot builds the ext4 root filesystem of the sample image.
func exampleRoot() string {
	img, err := fixtures.Ext4(fixtures.CacheDir(), fixtures.DemoTree(), fixtures.Ext4Options{Label: "root"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	return img
}
