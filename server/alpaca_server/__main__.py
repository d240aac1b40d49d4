from alpaca_server.cli import main

main()
