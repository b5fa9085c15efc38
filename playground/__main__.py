from .cli import main
from .engine.dist import exit_process

exit_process(main())
