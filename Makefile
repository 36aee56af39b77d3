GO      ?= go
BIN     ?= bin/imgcheck
FUZZTIME ?= 30s
export CGO_ENABLED = 0

.PHONY: build test bench lint demo fuzz clean

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/imgcheck

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	# The Kubernetes example is its own module (k8s.io/api stays out of go.mod).
	cd docs/examples/kubernetes && $(GO) vet ./... && $(GO) test -count=1 ./...

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

clean:
	rm -rf bin demo
