from handlers.slack.app import main

raise SystemExit(main())
