# Stepwise: the two commands are `make run` and `make test`.
.PHONY: run test lint fmt bench install

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

fmt:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

bench:
	@bash bench/run.sh

install:
	@bash scripts/venv.sh test
