"""In-memory fakes of the ports the use cases take (devops/app). Each fake is kept honest by a
contract test in tests/contract that runs the same assertions against it and its real adapter."""
