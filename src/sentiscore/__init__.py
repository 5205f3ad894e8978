"""sentiscore: sentiment and 1–10 score of Russian reviews."""

from .grades import Score, extract_score, strip_score
from .predict import Prediction, load_model, predict, predict_batch
from .preprocess import lemmatize, normalize
from .reports import Report, evaluate_file

__version__ = "0.1.0"
__all__ = ["Prediction", "Report", "Score", "evaluate_file", "extract_score", "lemmatize", "load_model", "normalize",
           "predict", "predict_batch", "strip_score"]
