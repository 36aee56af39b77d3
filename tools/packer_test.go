package tools

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// block is one HCL block of a template with its attributes' source text,
// in file order.
type block struct {
	Type   string
	Labels []string
	Attrs  map[string]*hclsyntax.Attribute
	Blocks []block
	src    []byte
}

// text is the source of attribute name, "" when absent.
func (b block) text(name string) string {
	a, ok := b.Attrs[name]
	if !ok {
		return ""
	}
	return string(a.Expr.Range().SliceBytes(b.src))
}

// parseTemplate parses a Packer HCL2 template with HashiCorp's parser.
func parseTemplate(t *testing.T, name string) block {
	t.Helper()
	path := filepath.Join(repoRoot(t), "docs", "examples", name)
	f, diags := hclparse.NewParser().ParseHCLFile(path)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", name, diags.Error())
	}
	return toBlock("", nil, f.Body.(*hclsyntax.Body), f.Bytes)
}

func toBlock(typ string, labels []string, body *hclsyntax.Body, src []byte) block {
	b := block{Type: typ, Labels: labels, Attrs: body.Attributes, src: src}
	for _, c := range body.Blocks {
		b.Blocks = append(b.Blocks, toBlock(c.Type, c.Labels, c.Body, src))
	}
	return b
}

// children returns b's blocks of the given type, in order.
func (b block) children(typ string) []block {
	var out []block
	for _, c := range b.Blocks {
		if c.Type == typ {
			out = append(out, c)
		}
	}
	return out
}

func one(t *testing.T, bs []block, what string) block {
	t.Helper()
	if len(bs) != 1 {
		t.Fatalf("%d %s blocks, want 1", len(bs), what)
	}
	return bs[0]
}

// TestPackerLocalFlow: the qemu → scan → digitalocean-import chain scans
// first and fails on FAIL, and the import keeps the local image for the
// steps after it.
func TestPackerLocalFlow(t *testing.T) {
	f := parseTemplate(t, "marketplace.pkr.hcl")
	build := one(t, f.children("build"), "build")
	chain := one(t, build.children("post-processors"), "post-processors").children("post-processor")
	var kinds []string
	for _, p := range chain {
		kinds = append(kinds, p.Labels[0])
	}
	if strings.Join(kinds, ",") != "shell-local,digitalocean-import,manifest,shell-local" {
		t.Fatalf("post-processor chain = %v; want the scan before the import", kinds)
	}
	scan := chain[0].text("inline")
	if !strings.Contains(scan, "imgcheck scan --fail-on fail") || !strings.Contains(scan, "${local.image}") {
		t.Errorf("first post-processor does not gate on a scan of the local image: %s", scan)
	}
	keep, diags := chain[1].Attrs["keep_input_artifact"].Expr.Value(nil)
	if chain[1].Attrs["keep_input_artifact"] == nil || diags.HasErrors() || !keep.RawEquals(cty.True) {
		t.Errorf("digitalocean-import: keep_input_artifact = %#v; want true, or the import deletes the image", keep)
	}
	if !strings.Contains(chain[3].text("inline"), "imgcheck do submit --manifest packer-manifest.json") {
		t.Errorf("last post-processor does not submit: %s", chain[3].text("inline"))
	}
}

// TestPackerDropletFlow: DigitalOcean's Droplet build ends with the
// cleanup, then the binary upload and the two scans of the live root, the
// marketplace one failing the build on FAIL.
func TestPackerDropletFlow(t *testing.T) {
	f := parseTemplate(t, "marketplace-droplet.pkr.hcl")
	src := one(t, f.children("source"), "source")
	if src.Labels[0] != "digitalocean" || src.text("droplet_agent") != "false" {
		t.Errorf("source = %v droplet_agent %s; want the digitalocean builder without the agent", src.Labels, src.text("droplet_agent"))
	}
	prov := one(t, f.children("build"), "build").children("provisioner")
	n := len(prov)
	if n < 3 {
		t.Fatalf("%d provisioners", n)
	}
	cleanup, upload, audit := prov[n-3], prov[n-2], prov[n-1]
	if scripts := stringList(t, cleanup, "scripts"); cleanup.Labels[0] != "shell" || len(scripts) == 0 || scripts[len(scripts)-1] != "scripts/90-cleanup.sh" {
		t.Errorf("third-last provisioner does not end with 90-cleanup.sh: %q", scripts)
	}
	if upload.Labels[0] != "file" || upload.text("destination") != `"/tmp/imgcheck"` {
		t.Errorf("second-last provisioner does not upload imgcheck: %v %s", upload.Labels, upload.text("destination"))
	}
	inline := strings.Join(stringList(t, audit, "inline"), "\n")
	first := strings.Index(inline, "scan --root / --profile img_check")
	gate := strings.Index(inline, "scan --root / --profile marketplace --fail-on fail")
	if audit.Labels[0] != "shell" || first < 0 || gate < first {
		t.Errorf("last provisioner does not run the img_check report then the marketplace gate:\n%s", inline)
	}
	if strings.Contains(inline, "|| true") {
		t.Errorf("a scan's failure is swallowed:\n%s", inline)
	}
}

// strings_ evaluates the list-of-strings attribute name of b, which must
// need no variables.
func stringList(t *testing.T, b block, name string) []string {
	t.Helper()
	a, ok := b.Attrs[name]
	if !ok {
		return nil
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.CanIterateElements() {
		t.Fatalf("%s: %s", name, diags.Error())
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out
}
