"""`python -m lib`: the `onboarding` command."""

from lib.cli import main

raise SystemExit(main())
