GO      ?= go
BIN     ?= bin/imgcheck
FUZZTIME ?= 30s
export CGO_ENABLED = 0

.PHONY: build test bench lint demo fuzz clean release-snapshot image tools-test

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/imgcheck

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	# The Kubernetes example is its own module (k8s.io/api stays out of go.mod).
	cd docs/examples/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...
	# So is the release tooling (container image, Action script, Packer templates).
	$(MAKE) tools-test

# Each benchmark runs a fixed 5 iterations (the images it scans are built
# once and cached), so the whole run stays within a few minutes.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 5x -benchmem -timeout 20m ./...

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# The demo image has findings on purpose: exit 1 (findings) is the expected result.
demo: build
	$(GO) run ./fixtures/cmd/mkdemo -o demo
	./$(BIN) info demo/demo.raw
	./$(BIN) scan demo/demo.raw; test $$? -le 1

fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x -timeout 0 $$pkg || exit 1; \
	  done; \
	done

# Release builds into dist/ (archives, SHA256SUMS) without publishing.
# goreleaser is built by `go run` from the Go proxy, so it does not enter
# go.mod; v2.17.0 is the newest release that builds with Go 1.26.
# goreleaser itself builds with the host's cgo default (CGO_ENABLED= ), so
# its build cache survives this Makefile's CGO_ENABLED=0; the release
# binaries are static through .goreleaser.yaml.
GORELEASER ?= github.com/goreleaser/goreleaser/v2@v2.17.0
release-snapshot:
	CGO_ENABLED= $(GO) run $(GORELEASER) release --snapshot --clean

# The container image (OCI archive) from the linux binaries of the snapshot.
image: release-snapshot
	cd tools && $(GO) run ./cmd/mkimage -o ../dist/imgcheck-oci.tar \
	  -version "v$$(jq -r .version ../dist/metadata.json)" -revision "$$(jq -r .commit ../dist/metadata.json)" \
	  linux/amd64=$$(ls ../dist/imgcheck_linux_amd64*/imgcheck) linux/arm64=$$(ls ../dist/imgcheck_linux_arm64*/imgcheck)

# The release tooling's tests (container image, Action script, Packer
# templates); their own module keeps go.mod small.
tools-test:
	cd tools && $(GO) vet ./... && $(GO) test -count=1 -timeout 20m ./...

clean:
	rm -rf bin demo dist
