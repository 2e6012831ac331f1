from clara_core.cli import main

raise SystemExit(main())
