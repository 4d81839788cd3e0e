"""Images: the build identity of a service, its tags and labels, and what builds and pushes did."""
