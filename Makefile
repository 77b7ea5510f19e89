# The project's entry points. README and CI call these, so a newcomer needs two commands:
#   make demo    build driftwood and run the bundled demo (sample model logs -> out/demo/)
#                (make demo SERVE=1: then keep the status page up on http://127.0.0.1:9600/)
#   make test    build and run the test suite
#   make bench   driftwood vs cat vs Python on 1M model-log lines (make bench LINES=200000)
#   make release release build only

# Where SwiftPM puts release binaries, asked from SwiftPM so it is right on every platform.
# '=' (not ':=') so only the targets that use it pay for the call.
BIN = $(shell swift build -c release --show-bin-path)
DEMO_OUT := out/demo
# The demo's checkpoints, passed with --data-dir and wiped first: pipelines/demo.yml replays
# a finished file, so with last run's checkpoints it would read nothing.
DEMO_STATE := .driftwood/demo
LINES ?= 1000000
# make demo SERVE=1 keeps the status page (and /metrics, /health) up on DEMO_ADDRESS after the
# replay, until Ctrl-C.
DEMO_ADDRESS ?= 127.0.0.1:9600

.PHONY: deps demo test bench release

deps:
	scripts/install-deps.sh

demo: deps
	swift build -c release --product driftwood
	rm -rf $(DEMO_OUT) $(DEMO_STATE)
ifneq ($(SERVE),)
	@echo "== after the replay the status page stays up: open http://$(DEMO_ADDRESS)/ (or run: $(BIN)/driftwood top --address $(DEMO_ADDRESS)); Ctrl-C stops"
	"$(BIN)/driftwood" run pipelines/demo.yml --data-dir $(DEMO_STATE) --metrics-address $(DEMO_ADDRESS) --serve || [ $$? -eq 130 ]
else
	"$(BIN)/driftwood" run pipelines/demo.yml --data-dir $(DEMO_STATE)
endif
	@echo
	@echo "== lines written under $(DEMO_OUT)/"
	@find $(DEMO_OUT) -type f | sort | xargs -r wc -l
	@first=$$(find $(DEMO_OUT) -type f | sort | head -n 1); \
	 if [ -n "$$first" ]; then echo "== first 3 lines of $$first"; head -n 3 "$$first"; \
	 else echo "== no output under $(DEMO_OUT)/"; exit 1; fi
	@echo "== alerts in $(DEMO_OUT)/alerts.jsonl (@timestamp, alert.type, alert.state, message)"
	@python3 -c 'import json,sys; [print(e["@timestamp"], e["alert"]["type"], e["alert"]["state"], e["message"], sep="  ") for e in map(json.loads, sys.stdin)]' < $(DEMO_OUT)/alerts.jsonl
	@echo "== where to look: $(DEMO_OUT)/ (events per model and day, problems.jsonl, alerts.jsonl)"
	@echo "   the status page (pipeline, per-model charts, alerts): make demo SERVE=1, then open http://$(DEMO_ADDRESS)/"

test: deps
	swift build --build-tests
	swift test

bench:
	bench/run.sh $(LINES)

release:
	swift build -c release
