import sys

from lupsim.cli import main

sys.exit(main())
