"""The MNIST chapters (``notebooks/mnist/``): Omnigrok / Liu et al. Fig. 8, Li & Sakib's
Table 3 variants and Carvalho et al.'s latent-cluster shift, on one MLP family."""
