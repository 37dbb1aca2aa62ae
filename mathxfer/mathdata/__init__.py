"""Math training data below every layer that reads it: worked solutions in GSM8K's schema (``worked``) and the
generated word problems (``word_problems``), used by training (``mathxfer.train.data``) and by the WordProblems
benchmark (``mathxfer.eval``) alike."""
