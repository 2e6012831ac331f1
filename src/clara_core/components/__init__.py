"""The component contracts of the seed, one concept per module."""
