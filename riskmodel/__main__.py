from riskmodel.cli.app import main

main()
