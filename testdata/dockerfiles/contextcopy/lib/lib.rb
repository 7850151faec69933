module Lib; end
