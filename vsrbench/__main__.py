from vsrbench.cli import main

raise SystemExit(main())
