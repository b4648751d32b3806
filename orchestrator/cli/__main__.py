"""`python -m orchestrator.cli`, the same as the `orchestrator` executable."""

from orchestrator.cli import main

raise SystemExit(main())
