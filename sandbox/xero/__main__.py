from sandbox.xero.server import main

main()
