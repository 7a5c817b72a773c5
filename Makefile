# The first two targets are the README's first two commands.
SWIFT ?= swift
RUNS ?= runs

.PHONY: demo test deps test-deps python-deps build bench fuzz docs templates report-example clean

## demo: build and run the example experiment, then show its run
demo: deps
	$(SWIFT) build --product noko-example
	$(SWIFT) build --product noko-run
	$$($(SWIFT) build --show-bin-path)/noko-example --runs-dir $(RUNS)
	@run=$$(ls -td $(RUNS)/*/ | head -n 1); run=$${run%/}; \
	echo; echo "noko-example wrote $$run:"; ls -l "$$run"; echo; \
	echo "\$$ noko-run show $$run"; \
	$$($(SWIFT) build --show-bin-path)/noko-run show "$$run"

## test: build and run every test (serial, so swift test prints its summary lines);
## interop checks against Python packages fail, rather than skip, when one is missing;
## then the kill -9 harness in its short mode (README "Reliability")
test: deps test-deps python-deps
	scripts/check-platform
	$(SWIFT) build --build-tests
	NOKO_REQUIRE_INTEROP=1 $(SWIFT) test
	scripts/torture --bin "$$($(SWIFT) build --show-bin-path)"
	scripts/fuzz --short
	scripts/docs --probe

deps:
	@scripts/deps.sh system

test-deps:
	@scripts/deps.sh test-system

python-deps:
	@scripts/deps.sh python

build: deps
	$(SWIFT) build

## bench: the release-mode benchmarks (see README "Benchmarks")
bench: deps
	@scripts/deps.sh bench-python
	$(SWIFT) run -c release noko-bench all --python

## fuzz: libFuzzer over noko's readers (journal, compare, CSV, Parquet, JSON and config files),
## each for FUZZ_SECONDS (default 60), instrumented apart from the default build (Fuzz/,
## scripts/fuzz); `make test` runs them for a fixed number of inputs (scripts/fuzz --short)
fuzz: deps
	scripts/fuzz $(FUZZ_SECONDS)

## docs: the API reference and guides (DocC) as a static site in .build/docs/site; warnings
## (a broken symbol link, an undocumented public symbol) are errors
docs: deps
	scripts/docs

## templates: re-embed templates/*.mustache into noko-run (after editing a template)
templates:
	scripts/embed-templates

## report-example: regenerate docs/report-example.html and docs/report-grouped.html (and .png, with chromium)
report-example:
	scripts/report-example

clean:
	rm -rf .build
