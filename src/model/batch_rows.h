#pragma once
// How a batched forward pass lays out several sequences: their tokens are the rows of every
// [rows][C] activation array, each sequence's rows contiguous (a Segment) with its State.

#include <cstdint>
#include <vector>

namespace dte {

class State;

struct Segment {
  int64_t begin = 0;   // first row
  int64_t length = 0;  // rows
  State* state = nullptr;
};

struct BatchRows {
  std::vector<Segment> segments;
  int64_t rows = 0;
};

}  // namespace dte
