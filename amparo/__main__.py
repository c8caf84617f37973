"""``python -m amparo`` runs the command line."""

from amparo.cli.main import main

if __name__ == "__main__":
    main()
