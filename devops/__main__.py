from __future__ import annotations

from devops.cli import main

raise SystemExit(main())
