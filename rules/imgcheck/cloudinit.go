package imgcheck

import "github.com/imgcheck/imgcheck/rules"

// parityCloudInitInstalled is the script's cloud-init test: the command only.
func parityCloudInitInstalled(in *rules.Input) []rules.Finding {
	cmd, err := in.Facts.LookPath("cloud-init")
	if err != nil {
		return []rules.Finding{in.Fault("cloud-init command", err)}
	}
	var f rules.Finding
	if cmd != "" {
		f = in.New(rules.Pass, "cloud-init", "Cloud-init is installed.", rules.KV{Key: rules.KeyPath, Value: cmd})
	} else {
		f = in.New(rules.Fail, "cloud-init", "No valid verison of cloud-init was found.")
		f.Fix = "install cloud-init (apt-get install cloud-init / yum install cloud-init)"
	}
	return []rules.Finding{f}
}
