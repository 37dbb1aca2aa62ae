from mathxfer.cli import main

raise SystemExit(main())
