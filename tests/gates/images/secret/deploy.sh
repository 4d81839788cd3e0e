#!/bin/sh
# fake credentials planted for the devops test suite
export AWS_ACCESS_KEY_ID=AKIA2E0A8F3B244C9986
echo deploy
