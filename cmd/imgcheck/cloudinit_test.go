package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/imgcheck/imgcheck/fixtures"
)

// TestScanInstallerCloudInit scans an image an Ubuntu ISO install left
// behind: the installer's datasource_list: [ None ] and its disabling of
// cloud-init's networking, with only ens3 on DHCP. Text and JSON carry the
// FAIL and the WARN with their evidence.
func TestScanInstallerCloudInit(t *testing.T) {
	tree := cleanTree()
	tree["etc/cloud/cloud.cfg.d/99-installer.cfg"] = fixtures.File("datasource_list: [ None ]\n", 0o644)
	tree["etc/cloud/cloud.cfg.d/subiquity-disable-cloudinit-networking.cfg"] = fixtures.File("network: {config: disabled}\n", 0o644)
	tree["etc/netplan/00-installer-config.yaml"] = fixtures.File("network:\n  ethernets:\n    ens3:\n      dhcp4: true\n  version: 2\n", 0o600)
	img := gptImage(t, tree)
	out, _, code := runCmd(t, "scan", img)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		"datasource_list [None] set by /etc/cloud/cloud.cfg.d/99-installer.cfg has neither ConfigDrive nor DigitalOcean",
		"uses DHCP only on ens3",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	js, _, _ := runCmd(t, "scan", "--format", "json", img)
	var rep struct {
		Images []struct {
			Findings []struct {
				Rule     string            `json:"rule"`
				Level    string            `json:"level"`
				Evidence map[string]string `json:"evidence"`
			} `json:"findings"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, js)
	}
	got := map[string]map[string]string{}
	if len(rep.Images) != 1 {
		t.Fatalf("%d images in the JSON report", len(rep.Images))
	}
	for _, f := range rep.Images[0].Findings {
		if strings.HasPrefix(f.Rule, "cloudinit.") {
			got[f.Rule+" "+f.Level] = f.Evidence
		}
	}
	if ev := got["cloudinit.datasource fail"]; ev["datasource_list"] != "[None]" || ev["source"] != "/etc/cloud/cloud.cfg.d/99-installer.cfg" {
		t.Errorf("cloudinit.datasource JSON evidence %v", got)
	}
	if ev := got["cloudinit.network warn"]; ev["dhcp"] != "/etc/netplan/00-installer-config.yaml:4 ens3" || ev["network_config"] != "disabled" {
		t.Errorf("cloudinit.network JSON evidence %v", got)
	}
}
