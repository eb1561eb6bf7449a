# Moat: two commands for a person, `make run` and `make test`.
# Both install what is missing first (Debian/Ubuntu; root or sudo).

CARGO        ?= cargo
# bubblewrap and xdg-dbus-proxy run the web content process in its sandbox
# (src/engine/sandbox.rs): without them the app does not start.
APT_PACKAGES := pkg-config build-essential libwebkit2gtk-4.1-dev libgtk-3-dev \
                libsoup-3.0-dev xvfb xauth xdotool bubblewrap xdg-dbus-proxy openssl \
                dbus gnome-keyring libsecret-tools
DEMO         := target/debug/moat-demo
# The demo uses the built-in modules; each is a cargo feature (see Cargo.toml).
FEATURES     := api-all

.PHONY: deps run test soak fuzz fmt lint bench schema package new-app

## deps: install the system packages WebKitGTK needs, if any is missing
deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "moat: missing packages:$$missing; install them as root (apt-get install$$missing)" >&2; exit 1; fi; \
	  echo "moat: installing$$missing"; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq$$missing >/dev/null || exit 1; \
	fi
	@command -v $(CARGO) >/dev/null 2>&1 || { echo "moat: cargo not found; install Rust (rustup) first" >&2; exit 1; }

# Xvfb resets itself whenever its last client disconnects, and a client that
# connects during the reset is refused: with test processes starting and
# exiting side by side, GTK then fails to open the display about once in
# twenty-five connections (docs/webkitgtk.md). -noreset keeps it up.
XVFB_RUN := xvfb-run -a -s "-screen 0 1280x1024x24 -noreset"

## run: build and open the demo (under Xvfb, and saying so, when there is no display)
run: deps
	$(CARGO) build --locked -p moat-demo --features $(FEATURES),devtools --bin moat-demo
	@if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
	  echo "moat: no display found; running the demo under Xvfb (invisible; Ctrl-C to stop)"; \
	  $(XVFB_RUN) $(DEMO); \
	else \
	  $(DEMO); \
	fi

## test: unit tests, and the end-to-end tests in the real webview under Xvfb
test: deps
	$(XVFB_RUN) $(CARGO) test --locked --workspace --features dangerous-test-harness,$(FEATURES),typescript
	# The library's unit tests once more with no built-in module compiled in:
	# allowing one must stop startup, and naming the feature.
	$(CARGO) test --locked -p moat --lib
	# The demo as a package: built, unpacked, checked, and its window opened.
	$(MAKE) --no-print-directory package
	$(XVFB_RUN) tools/check-package.sh $$(ls -t dist/moat-demo_*.deb | head -1) moat-demo "Moat demo"
	# The packaged binary ignores debug switches in its environment; the
	# debug build, which keeps them, is the control.
	$(XVFB_RUN) tools/check-switches.sh $$(ls -t dist/moat-demo_*.deb | head -1) moat-demo "Moat demo" $(DEMO)
	# The scaffold: a new app builds, passes its own test, lint and audit, and packages.
	tools/check-new-app.sh

## soak: the long runs kept out of `make test` (a million calls from one page)
soak: deps
	$(XVFB_RUN) $(CARGO) test --locked -p moat-demo --features dangerous-test-harness,$(FEATURES) --test e2e -- --ignored

## schema: regenerate moat.schema.json from the config types (make test checks it is current)
schema:
	MOAT_WRITE_SCHEMA=1 $(CARGO) test --locked -p moat --lib config::tests::the_committed_schema_matches_the_config_types

fmt:
	$(CARGO) fmt --all

# Dependencies are checked offline against this snapshot of the RustSec
# advisory database (its commit and date are in its SNAPSHOT file).
ADVISORY_DB  ?= ../shared/advisory-db
DENY_VERSION := 0.20.2

## lint: formatting, clippy, and every dependency's advisories, licence and source (cargo-deny)
lint:
	@cargo_deny_version=$$($(CARGO) deny --version 2>/dev/null | cut -d' ' -f2); \
	if [ "$$cargo_deny_version" != "$(DENY_VERSION)" ]; then \
	  echo "moat: installing cargo-deny $(DENY_VERSION)"; \
	  $(CARGO) install --locked cargo-deny@$(DENY_VERSION) || exit 1; \
	fi
	$(CARGO) fmt --all --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	$(CARGO) clippy --locked --workspace --all-targets --features dangerous-test-harness,$(FEATURES),devtools,typescript -- -D warnings
	for f in api-fs api-shell api-http api-asset api-dialog api-store api-secrets; do \
	  $(CARGO) clippy --locked -p moat --lib --features $$f -- -D warnings || exit 1; \
	done
	$(CARGO) fetch --locked
	# The fuzz crate is its own workspace: its lock file must follow Moat's
	# dependencies too, or `make fuzz` stops at --locked.
	cd fuzz && $(CARGO) metadata --locked --format-version 1 >/dev/null
	tools/advisory-db.sh $(ADVISORY_DB) target/advisory-dbs
	$(CARGO) deny --offline check

## new-app: a new app in DIR, its own crate on Moat (NAME: crate name, ID: reverse-DNS id, TITLE optional)
new-app:
	@[ -n "$(DIR)" ] && [ -n "$(NAME)" ] && [ -n "$(ID)" ] || { echo "usage: make new-app DIR=../my-app NAME=my-app ID=org.example.myapp [TITLE='My app']" >&2; exit 2; }
	tools/new-app.sh "$(DIR)" "$(NAME)" "$(ID)" "$(or $(TITLE),$(NAME))"

## package: a release .deb of the demo, with SHA256SUMS, in dist/
package: deps
	tools/package.sh moat-demo moat-demo dev.moat.demo "Moat demo" packaging/moat-demo.svg dist $(FEATURES)

## bench: Moat vs the bare-wry floor in the real webview, release build (see docs/bench.md)
bench: deps
	$(XVFB_RUN) $(CARGO) bench --locked -p moat-demo --features dangerous-test-harness,$(FEATURES) --bench ipc

## fuzz: coverage-guided fuzzing of the parsers with AFL++ (cargo-afl, stable Rust), FUZZ_SECONDS per target
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := script_message envelope call config html range url envelope_sequence launch_message
fuzz:
	@command -v cargo-afl >/dev/null 2>&1 || $(CARGO) install --locked cargo-afl
	cd fuzz && $(CARGO) afl build --release --locked
	@set -e; for t in $(FUZZ_TARGETS); do \
	  out=target/fuzz/$$t; rm -rf $$out; mkdir -p $$out fuzz/crashes/$$t; \
	  echo "moat: fuzzing $$t for $(FUZZ_SECONDS) s"; \
	  MOAT_FUZZ_TARGET=$$t AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
	    $(CARGO) afl fuzz -i fuzz/corpus/$$t -o $$out -V $(FUZZ_SECONDS) fuzz/target/release/moat-fuzz >$$out/log 2>&1; \
	  MOAT_FUZZ_TARGET=$$t $(CARGO) afl cmin -i $$out/default/queue -o $$out/min -- fuzz/target/release/moat-fuzz >/dev/null 2>&1 || true; \
	  for f in $$out/min/*; do \
	    [ -f "$$f" ] || continue; \
	    to=fuzz/corpus/$$t/$$(sha1sum <"$$f" | cut -c1-16); \
	    [ -e "$$to" ] || cp "$$f" "$$to"; \
	  done; \
	  found=$$(ls $$out/default/crashes 2>/dev/null | grep -v README || true); \
	  if [ -n "$$found" ]; then cp $$out/default/crashes/id* fuzz/crashes/$$t/; echo "moat: $$t: crashes in fuzz/crashes/$$t"; exit 1; fi; \
	done
	@echo "moat: no crash; new corpus entries are in fuzz/corpus (commit them)"
